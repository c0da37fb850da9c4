import { Injectable } from '@nestjs/common';

export type ComponentStatus = 'up' | 'degraded' | 'down';
export interface HealthCheck {
  name: string;
  /** `down` makes /health/ready fail (503); `degraded` is reported but the replica stays ready. */
  check(): Promise<{ status: ComponentStatus; detail?: string }>;
}

/** Modules register their readiness checks here (database, Redis, SAML metadata, ...). */
@Injectable()
export class HealthRegistry {
  private readonly checks: HealthCheck[] = [];
  private shuttingDown = false;

  register(check: HealthCheck): void {
    this.checks.push(check);
  }

  /** Graceful shutdown: readiness fails at once so the load balancer stops sending traffic. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async run(): Promise<{ status: ComponentStatus; components: Record<string, { status: ComponentStatus; detail?: string }> }> {
    const components: Record<string, { status: ComponentStatus; detail?: string }> = {};
    await Promise.all(
      this.checks.map(async (c) => {
        try {
          components[c.name] = await withTimeout(c.check(), 2000);
        } catch (e) {
          components[c.name] = { status: 'down', detail: (e as Error).message };
        }
      }),
    );
    if (this.shuttingDown) components.lifecycle = { status: 'down', detail: 'shutting down' };
    const all = Object.values(components).map((c) => c.status);
    const status: ComponentStatus = all.includes('down') ? 'down' : all.includes('degraded') ? 'degraded' : 'up';
    return { status, components };
  }
}

/** `p`, or a rejection `no answer within <ms> ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
