// The imaging caches of one process, shared by its threads (the main thread, for the SMART detail
// view, and every hook worker): an answer one thread read from the archive is posted to the others
// on a BroadcastChannel, so that the archive is asked once per patient and TTL, not once per thread.
// With calls spread over N workers, per-thread caches asked the archive up to N times for the same
// patient. The channel's name is made per server start (server.ts), so two servers in one process
// (tests, the imaging bench) never share. Sharing is best effort: an entry that cannot be posted
// stays in its own thread's cache.
import { BroadcastChannel } from 'node:worker_threads';

/** What of a cache (ttl-cache.ts TtlCache) the channel uses. */
export interface ShareableCache {
  publish(listener: (key: string, value: unknown, expires: number) => void): void;
  adopt(key: string, value: unknown, expires: number): void;
}

interface SharedEntry {
  cache: string;
  key: string;
  value: unknown;
  expires: number;
}

/** Joins `caches` to the channel; returns what closes it. */
export function shareCaches(caches: Record<string, ShareableCache>, channelName: string): () => void {
  const channel = new BroadcastChannel(channelName);
  // The channel must not keep a thread alive on its own.
  channel.unref();
  for (const [name, cache] of Object.entries(caches)) {
    cache.publish((key, value, expires) => {
      try {
        channel.postMessage({ cache: name, key, value, expires } satisfies SharedEntry);
      } catch {
        // Not cloneable, or the channel closed: the entry stays local.
      }
    });
  }
  channel.onmessage = (event: unknown) => {
    const entry = (event as { data?: Partial<SharedEntry> }).data;
    if (!entry || typeof entry.cache !== 'string' || typeof entry.key !== 'string' || typeof entry.expires !== 'number') return;
    if (!Object.hasOwn(caches, entry.cache)) return;
    caches[entry.cache]!.adopt(entry.key, entry.value, entry.expires);
  };
  return () => channel.close();
}
