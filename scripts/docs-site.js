#!/usr/bin/env node
// Builds the documentation as a static site, offline, from the repository alone: every Markdown file
// of docs/ (and CONTRIBUTING.md) rendered with markdown-it into .site/, one page per file, with the
// same navigation on each, links between pages rewritten to the HTML pages, images copied. The build
// fails on a link to a page or an anchor that does not exist, so a broken link cannot land.
//   node scripts/docs-site.js            build into .site/ (open .site/index.html)
//   node scripts/docs-site.js --out DIR  build elsewhere
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = join(ROOT, 'docs');
const outArg = process.argv.indexOf('--out');
const OUT = resolve(outArg > 0 ? process.argv[outArg + 1] : join(ROOT, '.site'));

/** Every page: docs/**.md, plus CONTRIBUTING.md at the site's root. */
function markdownFiles(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n.startsWith('.') ? [] : markdownFiles(p);
    return n.endsWith('.md') ? [p] : [];
  });
}
const sources = [...markdownFiles(DOCS), join(ROOT, 'CONTRIBUTING.md')];

/** Where a source lands in the site: docs/x/y.md → x/y.html, README.md → index.html of its folder. */
function pageOf(source) {
  const rel = source.startsWith(DOCS + sep) ? relative(DOCS, source) : relative(ROOT, source);
  return rel.replace(/(^|\/)README\.md$/, '$1index.md').replace(/\.md$/, '.html');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function slugger() {
  const seen = new Map();
  return (text) => {
    const base = text
      .toLowerCase()
      .trim()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}-${n}` : base;
  };
}

const md = new MarkdownIt({ html: true, linkify: false, typographer: false });
const pages = sources.map((source) => {
  const env = /** @type {Record<string, unknown>} */ ({});
  const tokens = md.parse(readFileSync(source, 'utf8'), env);
  const slug = slugger();
  const anchors = new Set();
  let title = '';
  tokens.forEach((t, i) => {
    if (t.type !== 'heading_open') return;
    const text = tokens[i + 1].children
      .filter((c) => c.type === 'text' || c.type === 'code_inline')
      .map((c) => c.content)
      .join('');
    const id = slug(text);
    anchors.add(id);
    t.attrSet('id', id);
    if (!title && t.tag === 'h1') title = text;
  });
  return { source, page: pageOf(source), tokens, env, anchors, title: title || pageOf(source) };
});
const byPage = new Map(pages.map((p) => [p.page, p]));

const problems = [];
/** Rewrites the links of a page's tokens; records those pointing nowhere. */
function rewriteLinks(p) {
  const walk = (tokens) => {
    for (const t of tokens) {
      if (t.children) walk(t.children);
      const attr = t.type === 'link_open' ? 'href' : t.type === 'image' ? 'src' : undefined;
      if (!attr) continue;
      const href = t.attrGet(attr);
      if (!href || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue;
      const [path, anchor] = href.split('#');
      const target = path ? resolve(dirname(p.source), path) : p.source;
      if (!existsSync(target)) {
        problems.push(`${relative(ROOT, p.source)}: link to ${href}: no such file`);
        continue;
      }
      if (target.endsWith('.md')) {
        const page = byPage.get(pageOf(target));
        if (!page) {
          // A Markdown file outside docs/ (the README, a source folder's notes): link to the repository file.
          t.attrSet(attr, relative(dirname(join(OUT, p.page)), join(OUT, '_repo', relative(ROOT, target))));
          continue;
        }
        if (anchor && !page.anchors.has(anchor)) problems.push(`${relative(ROOT, p.source)}: link to ${href}: no heading "#${anchor}" there`);
        const rel = relative(dirname(p.page), page.page) || page.page.split('/').pop();
        t.attrSet(attr, `${rel}${anchor ? `#${anchor}` : ''}`);
      } else if (statSync(target).isDirectory()) {
        const index = ['README.md', 'index.md'].map((n) => join(target, n)).find((f) => byPage.has(pageOf(f)));
        if (index) t.attrSet(attr, relative(dirname(p.page), pageOf(index)));
        else t.attrSet(attr, relative(dirname(join(OUT, p.page)), join(OUT, '_repo', relative(ROOT, target))));
      } else if (target.startsWith(DOCS + sep)) {
        // An asset of docs/ (screenshots): copied beside the pages.
        const dest = join(OUT, relative(DOCS, target));
        mkdirSync(dirname(dest), { recursive: true });
        cpSync(target, dest);
      } else {
        // A file of the repository (LICENSE, a source file): copied under _repo/ so the site stands alone.
        const dest = join(OUT, '_repo', relative(ROOT, target));
        mkdirSync(dirname(dest), { recursive: true });
        cpSync(target, dest);
        t.attrSet(attr, relative(dirname(join(OUT, p.page)), dest));
      }
    }
  };
  walk(p.tokens);
}

const NAV = [
  ['Home', 'index.html'],
  ['Install and run', 'operator/install.html'],
  ['Upstream providers', 'operator/upstream.html'],
  ['Synapse and delivery', 'operator/homeserver.html'],
  ['Kubernetes', 'operator/kubernetes.html'],
  ['Troubleshooting', 'operator/troubleshooting.html'],
  ['Configuration reference', 'reference/configuration.html'],
  ['Architecture', 'architecture.html'],
  ['Synapse contract', 'contracts/synapse.html'],
  ['Matrix client contract', 'contracts/matrix-clients.html'],
  ['Decisions', 'decisions/index.html'],
  ['Contributing', 'CONTRIBUTING.html'],
];
const CSS = `body{margin:0;font:16px/1.55 system-ui,sans-serif;color:#1b1f24;display:flex}
nav{flex:0 0 15rem;padding:1.5rem 1rem;background:#f4f5f7;min-height:100vh;box-sizing:border-box}
nav a{display:block;padding:.25rem .5rem;color:#1b1f24;text-decoration:none;border-radius:4px}
nav a:hover,nav a[aria-current]{background:#e2e5ea}
main{flex:1;max-width:56rem;padding:1.5rem 2.5rem;min-width:0}
code{background:#f0f1f3;padding:.1em .3em;border-radius:3px;font-size:.9em}
pre{background:#f0f1f3;padding:1em;overflow:auto;border-radius:4px}pre code{padding:0;background:none}
table{border-collapse:collapse;display:block;overflow:auto}th,td{border:1px solid #d0d4da;padding:.35em .6em;vertical-align:top}
img{max-width:100%}a{color:#0b57d0}
@media (prefers-color-scheme:dark){body{background:#14161a;color:#e4e6ea}nav{background:#1d2026}nav a{color:#e4e6ea}
nav a:hover,nav a[aria-current]{background:#2b3038}code,pre{background:#23272e}th,td{border-color:#3a3f48}a{color:#8ab4f8}}`;

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
for (const p of pages) rewriteLinks(p);
for (const p of pages) {
  const up = relative(dirname(p.page), '.') || '.';
  const nav = NAV.map(([label, href]) => `<a href="${up}/${href}"${href === p.page ? ' aria-current="page"' : ''}>${escape(label)}</a>`).join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(p.title)} · Causeway</title><link rel="stylesheet" href="${up}/site.css"></head>
<body><nav aria-label="Documentation">${nav}</nav>
<main>${md.renderer.render(p.tokens, md.options, p.env)}</main></body></html>
`;
  const dest = join(OUT, p.page);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, html);
}
writeFileSync(join(OUT, 'site.css'), CSS);
for (const [, href] of NAV) if (!byPage.has(href)) problems.push(`navigation: no page ${href}`);

if (problems.length) {
  process.stderr.write(`docs site: ${problems.length} broken link(s):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`docs site: ${pages.length} pages in ${relative(ROOT, OUT) || OUT}\n`);
