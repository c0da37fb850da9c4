import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { compileTemplate, renderTemplate, TEMPLATE_LIMITS } from '../../../src/upstream/mapping/template-engine.js';

/**
 * Issue 13, F10: claims templates run synchronously on the event loop over values the IdP controls.
 * LiquidJS 10.30 takes a `templateLimit` option and ignores it (a 999×999 loop rendered), so the tag
 * budget is Causeway's own; each limit the README states is shown to hold here.
 */
const render = (source: string, attrs: Record<string, string | string[]> = {}, renderMs?: number) => renderTemplate(compileTemplate(source), attrs, renderMs);

describe('F10: every template limit holds', () => {
  it('stops a loop past the tag budget, however cheap each iteration is', () => {
    // A generous time budget here, so that only the tag budget can stop these (even on a loaded machine).
    const noClock = 60_000;
    expect(() => render('{% for i in (1..999) %}{% for j in (1..999) %}{% endfor %}{% endfor %}', {}, noClock)).toThrow(/tag limit exceeded/);
    expect(() => render(`{% for i in (1..${TEMPLATE_LIMITS.tags}) %}{% endfor %}`, {}, noClock)).toThrow(/tag limit exceeded/);
    // With the real clock, whichever limit comes first stops it.
    expect(() => render('{% for i in (1..999) %}{% for j in (1..999) %}{% endfor %}{% endfor %}')).toThrow(/limit exceeded/);
    // Well inside it, a loop still renders.
    expect(render('{% for g in user.groups %}{{ g }},{% endfor %}', { groups: ['a', 'b'] })).toBe('a,b,');
  });

  it('enforces the render time budget (shown with a 1 ms budget)', () => {
    expect(() => render('{% for i in (1..4000) %}{{ i | plus: 1 | minus: 1 }}{% endfor %}', {}, 0.001)).toThrow(/render limit exceeded/);
  });

  it('leaves overlong attribute values and list entries out of the scope', () => {
    const big = 'x'.repeat(TEMPLATE_LIMITS.maxValueLength + 1);
    expect(render('{{ user.big | size }}', { big })).toBe('0');
    expect(render('{{ user.ok | size }}', { ok: 'x'.repeat(TEMPLATE_LIMITS.maxValueLength) })).toBe(String(TEMPLATE_LIMITS.maxValueLength));
    const many = Array.from({ length: TEMPLATE_LIMITS.maxListEntries + 100 }, (_, i) => `g${i}`);
    expect(render('{{ user.groups | size }}', { groups: many })).toBe(String(TEMPLATE_LIMITS.maxListEntries));
    expect(render('{{ user.groups | size }}', { groups: ['a', big, 'b'] })).toBe('2');
  });

  it('are the limits the operator guide states', () => {
    const readme = readFileSync(new URL('../../../docs/operator/upstream.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const l = TEMPLATE_LIMITS;
    const n = (x: number) => x.toLocaleString('en-US').replace(/,/g, ' ');
    for (const phrase of [
      `at most ${l.maxSourceLength} characters`,
      `${l.renderMs} ms`,
      `${n(l.tags)} tags`,
      `${l.maxOutputLength} output characters`,
      `values longer than ${l.maxValueLength} characters`,
      `lists past ${l.maxListEntries} entries`,
    ]) {
      expect(readme).toContain(phrase);
    }
  });
});
