import { describe, expect, it } from '@jest/globals';
import { compileTemplate, renderTemplate, templateProblem, TEMPLATE_LIMITS, toLocalpart } from '../../../../src/upstream/mapping/template-engine.js';

const user = {
  mail: 'Alice.Liddell@Example.org',
  uid: 'ALICE',
  groups: ['member', 'staff'],
  name: 'Élodie Dupont',
  empty: '',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': 'alice@corp.example',
};
const render = (t: string, attrs: Record<string, string | string[]> = user) => renderTemplate(compileTemplate(t), attrs);

describe('claims templates: the language', () => {
  it.each([
    ['{{ user.mail }}', 'Alice.Liddell@Example.org'],
    ['{{ user.mail | split: "@" | first | downcase }}', 'alice.liddell'],
    ['{{ user.uid | downcase }}', 'alice'],
    ['{{ user.groups | first }}', 'member'],
    ['{{ user.groups | last }}', 'staff'],
    ['{{ user.groups | join: "," }}', 'member,staff'],
    ['{{ user.mail | replace: "@Example.org", "" }}', 'Alice.Liddell'],
    ['{% if user.groups contains "staff" %}staff{% else %}other{% endif %}', 'staff'],
    ['{{ user["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] }}', 'alice@corp.example'],
    ['{{ user.name | to_localpart }}', 'elodie-dupont'],
    ['{{ user.missing | default: "fallback" }}', 'fallback'],
  ])('%s → %s', (template, expected) => {
    expect(render(template)).toBe(expected);
  });

  it('renders a missing attribute as empty (strict variables off)', () => {
    expect(render('{{ user.nope }}')).toBe('');
    expect(render('{{ user.nope.deeper }}')).toBe('');
    expect(render('{{ nothing }}')).toBe('');
  });

  it('trims the output', () => {
    expect(render('   {{ user.uid }}\n\t')).toBe('ALICE');
    expect(render('{{ user.empty }}   ')).toBe('');
  });

  it('keeps unicode as it is (validation happens later)', () => {
    expect(render('{{ user.name }}')).toBe('Élodie Dupont');
    expect(render('{{ user.name | downcase }}')).toBe('élodie dupont');
  });
});

describe('claims templates: the sandbox', () => {
  it.each([
    ['include', '{% include "/etc/passwd" %}', /tag "include" not found/],
    ['render', '{% render "x" %}', /tag "render" not found/],
    ['layout', '{% layout "x" %}', /tag "layout" not found/],
    ['block', '{% block x %}{% endblock %}', /tag "block" not found/],
    ['unknown filter', '{{ user.mail | shell }}', /undefined filter: shell/],
    ['unclosed output', '{{ user.mail ', /not closed/],
    ['unclosed tag', '{% if user.mail %}x', /not closed/],
    ['empty condition', '{% if %}x{% endif %}', /invalid value expression/],
  ])('refuses %s at parse time', (_name, template, message) => {
    expect(templateProblem(template)).toMatch(message);
  });

  it('accepts correct templates', () => {
    expect(templateProblem('{{ user.mail | split: "@" | first }}')).toBeUndefined();
  });

  it('refuses a template longer than the limit', () => {
    expect(templateProblem('x'.repeat(TEMPLATE_LIMITS.maxSourceLength + 1))).toMatch(/longer than/);
  });

  it('hides prototypes and constructors', () => {
    for (const t of ['{{ user.constructor }}', '{{ user.__proto__ }}', '{{ user.mail.constructor }}', '{{ user.groups.constructor.name }}', '{{ user.toString }}', '{{ user.hasOwnProperty }}']) {
      expect(render(t)).toBe('');
    }
  });

  it('treats an attribute named __proto__ as data, not as a prototype', () => {
    const attrs = JSON.parse('{"__proto__": "evil", "uid": "x"}') as Record<string, string>;
    expect(render('{{ user.uid }}', attrs)).toBe('x');
  });

  it('stops a huge loop (allocation limit)', () => {
    expect(() => render('{% for i in (1..100000000) %}x{% endfor %}')).toThrow(/limit exceeded/);
  });

  it('stops exponential string growth (allocation limit)', () => {
    expect(() => render('{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}')).toThrow(/limit exceeded/);
  });

  it('stops a long nested loop (render time / template count limit)', () => {
    expect(() => render('{% for i in (1..3000) %}{% for j in (1..3000) %}{{ j }}{% endfor %}{% endfor %}')).toThrow(/limit exceeded/);
  });

  it('refuses an output longer than the limit', () => {
    expect(() => render('{% for i in (1..2000) %}x{% endfor %}')).toThrow(/output longer than/);
  });

  it('does not quote scope values in render errors', () => {
    let failure: unknown;
    try {
      render('{% for i in (1..100000000) %}{{ user.mail }}{% endfor %}');
    } catch (e) {
      failure = e;
    }
    // Outside the catch: a render that stops throwing must fail this test, not pass it.
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/limit exceeded|output longer than/);
    expect((failure as Error).message).not.toContain('Alice');
  });
});

describe('to_localpart filter', () => {
  it.each([
    ['Élodie Dupont', 'elodie-dupont'],
    ['ALICE', 'alice'],
    ["o'brien", 'o-brien'],
    ['  _hidden_  ', 'hidden'],
    ['日本語', ''],
    ['a..b', 'a..b'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(toLocalpart(input)).toBe(expected);
  });
});
