import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/** Whether `s` is an address range in CIDR notation (10.0.0.0/8, 2001:db8::/32). */
export function isCidr(s: string): boolean {
  try {
    ipaddr.parseCIDR(s);
    return true;
  } catch {
    return false;
  }
}

/** A config value naming an address range. */
export const cidrSchema = z.string().refine(isCidr, 'expected a CIDR range like 10.0.0.0/8 or 2001:db8::/32');
