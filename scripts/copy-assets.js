#!/usr/bin/env node
// Copies non-TypeScript assets (page templates, message catalogs) from src/ into dist/ after tsc.
import { cpSync } from 'node:fs';
cpSync(new URL('../src/web/templates/', import.meta.url), new URL('../dist/web/templates/', import.meta.url), { recursive: true });
cpSync(new URL('../src/web/i18n/catalogs/', import.meta.url), new URL('../dist/web/i18n/catalogs/', import.meta.url), { recursive: true });
