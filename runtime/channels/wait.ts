/** Waiting on several things at once: charm.iwait (in readiness order) and charm.wait (all). */
import { Future } from "../core/future.ts";
import { Channel } from "./channel.ts";
import { CharmError } from "../protocol/errors.ts";

/** Something charm.iwait can wait for. */
export type Waitable = Future<any> | Channel<any>;

function readiness(item: Waitable): Promise<void> {
  if (item instanceof Channel) return item.whenReady();
  if (item instanceof Future) return Promise.resolve(item).then(() => undefined, () => undefined);
  throw new CharmError(`charm.iwait/wait take futures and channels, got ${typeof item}`);
}

/**
 * Yields each future or channel as soon as it is ready (a resolved future, a channel with a
 * message). Written as a plain async iterator, not an `async function*`: an async generator
 * awaits every value it yields, so it would hand out a future's value instead of the future.
 */
export function iwait<T extends Waitable>(items: Iterable<T>): AsyncIterableIterator<T> {
  const list = [...items];
  const ready: T[] = [];
  let wake: (() => void) | undefined;
  for (const item of list) {
    void readiness(item).then(() => { ready.push(item); wake?.(); });
  }
  let yielded = 0;
  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      if (yielded === list.length) return { done: true, value: undefined };
      while (ready.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      yielded++;
      return { done: false, value: ready.shift()! };
    },
    async return(): Promise<IteratorResult<T>> {
      yielded = list.length;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** Resolves once every future and channel is ready. */
export async function waitAll(items: Iterable<Waitable>): Promise<void> {
  await Promise.all([...items].map(readiness));
}
