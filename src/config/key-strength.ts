// The rule a key must meet when a person gives it (ADMIN_API_KEY, `ilp-adapter keys hash <key>`) rather than the service
// generating it. A key is only hashed (sha256, unsalted), so a guessable one is found by trying guesses offline against a
// leaked hash or online against the API: it must carry about 128 bits of randomness. What this checks is what a person
// would type instead of random output; it cannot measure randomness, only refuse the usual shortcuts.
export type KeyWeakness = 'too-short' | 'bad-characters' | 'too-few-distinct' | 'repetitive' | 'sequence' | 'common-word';

/** 22 base64url characters are 132 bits; hex needs 32 characters for 128 bits, so hex keys are held to that. */
export const MIN_GIVEN_KEY_LENGTH = 22;
export const MIN_HEX_KEY_LENGTH = 32;
const MIN_DISTINCT = 8;

// Words people build keys from, 5+ characters so that random output contains one with negligible probability (about
// 1 in a million for a 32-character base64 key, case-insensitively).
const COMMON_WORDS = ['password', 'passw0rd', 'admin', 'secret', 'changeme', 'letmein', 'qwerty', 'welcome', 'default',
  'example', 'ilpadapter', 'satusehat', 'puskesmas', 'rahasia', '12345', 'abcde'];

/** Why a given key is too weak, or undefined when it passes the rule (README "API keys"). */
export function keyWeakness(key: string): KeyWeakness | undefined {
  if (!/^[\x21-\x7e]+$/.test(key)) return 'bad-characters'; // printable ASCII without spaces: survives headers and shells
  const isHex = /^[0-9a-fA-F]+$/.test(key);
  if (key.length < (isHex ? MIN_HEX_KEY_LENGTH : MIN_GIVEN_KEY_LENGTH)) return 'too-short';
  const counts = new Map<string, number>();
  for (const c of key) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size < MIN_DISTINCT) return 'too-few-distinct';
  if (Math.max(...counts.values()) > key.length / 3) return 'repetitive';
  let steps = 0;
  for (let i = 1; i < key.length; i++) if (Math.abs(key.charCodeAt(i) - key.charCodeAt(i - 1)) === 1) steps++;
  if (steps > (key.length - 1) / 2) return 'sequence'; // abcdef…, 123456…
  const lower = key.toLowerCase();
  if (COMMON_WORDS.some((w) => lower.includes(w))) return 'common-word';
  return undefined;
}
