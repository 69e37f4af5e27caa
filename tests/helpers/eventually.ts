// Waiting on a condition instead of sleeping a guessed time. The bound only turns a hang into a clear failure; it is
// generous (minutes) because a loaded machine may be slow, and nothing a test asserts depends on it.
export const HANG_MS = 120_000;

/** Resolves once `cond()` holds (checked every `everyMs` of real time); rejects after `hangMs`, naming `what`. */
export async function eventually(cond: () => boolean | Promise<boolean>, what: string, hangMs = HANG_MS, everyMs = 5): Promise<void> {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > hangMs) throw new Error(`still waiting after ${hangMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A promise opened from outside: `reached` resolves when the code under test arrives, `open()` lets it go on. */
export function gate(): { reached: Promise<void>; arrive: () => Promise<void>; open: () => void } {
  let arrived!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const opened = new Promise<void>((r) => (open = r));
  return { reached, arrive: () => (arrived(), opened), open };
}
