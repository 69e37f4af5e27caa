// Runs async sections one after another (a mutex for one process): a check and the write that depends on it stay
// together even though each awaits the store.
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.tail.then(section);
    // The next section waits for this one to settle, whichever way it ends.
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }
}
