import { englishText } from '../../src/web/i18n/english.js';
import type { Msg } from '../../src/web/i18n/message.js';

/** A message as the English page says it (plain text). */
export const english = (m: Msg): string => englishText(m);
