/**
 * The pages' colours (pure): fixed neutrals chosen for WCAG 2.2 AA in light and dark mode, and the
 * operator's brand colour adjusted just enough to keep 4.5:1 for text and buttons on each background.
 */

type Rgb = [number, number, number];

export const LIGHT_BACKGROUND = '#ffffff';
export const DARK_BACKGROUND = '#15191e';
/** WCAG 1.4.3 (text) and 1.4.11 (input borders, focus indicators). */
export const TEXT_CONTRAST = 4.5;

function rgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function hex([r, g, b]: Rgb): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG relative luminance of an sRGB colour. */
export function luminance(color: string): number {
  const [r, g, b] = rgb(color).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The colour moved towards `toward` (black or white) in small steps until it reaches `ratio` against `background`. */
export function withContrast(color: string, background: string, ratio: number, toward: '#000000' | '#ffffff'): string {
  const from = rgb(color);
  const to = rgb(toward);
  for (let step = 0; step <= 50; step++) {
    const t = step / 50;
    const c = hex(from.map((v, i) => v + (to[i]! - v) * t) as Rgb);
    if (contrast(c, background) >= ratio) return c;
  }
  return toward;
}

export interface Palette {
  light: ModeColors;
  dark: ModeColors;
}

export interface ModeColors {
  background: string;
  text: string;
  muted: string;
  border: string;
  accent: string;
  /** Text on an accent-coloured button. */
  onAccent: string;
  danger: string;
  onDanger: string;
  focus: string;
}

export function palette(primary: string): Palette {
  const lightAccent = withContrast(primary, LIGHT_BACKGROUND, TEXT_CONTRAST, '#000000');
  const darkAccent = withContrast(primary, DARK_BACKGROUND, TEXT_CONTRAST, '#ffffff');
  const onLight = (c: string) => (contrast(c, '#ffffff') >= contrast(c, '#1b1f23') ? '#ffffff' : '#1b1f23');
  return {
    light: {
      background: LIGHT_BACKGROUND,
      text: '#1b1f23',
      muted: '#57606a',
      border: '#6e7781',
      accent: lightAccent,
      onAccent: onLight(lightAccent),
      danger: '#b3261e',
      onDanger: '#ffffff',
      focus: '#1b1f23',
    },
    dark: {
      background: DARK_BACKGROUND,
      text: '#e6edf3',
      muted: '#a8b1bb',
      border: '#8b949e',
      accent: darkAccent,
      onAccent: onLight(darkAccent) === '#ffffff' && contrast(darkAccent, '#ffffff') >= TEXT_CONTRAST ? '#ffffff' : DARK_BACKGROUND,
      danger: '#ffb4ab',
      onDanger: DARK_BACKGROUND,
      focus: '#e6edf3',
    },
  };
}
