// oidc-provider's storage for the demo authorization server: in memory, owned by one server object
// (the library's own quick-start adapter keeps one store per process and warns on every start).
// Bounded: expired entries are dropped on write, and the oldest go first past MAX_ENTRIES.
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

const MAX_ENTRIES = 10_000;

interface Entry { payload: AdapterPayload; expires: number }

export function memoryAdapterFactory(now: () => number): AdapterFactory {
  const store = new Map<string, Entry>();
  const live = (key: string): AdapterPayload | undefined => {
    const e = store.get(key);
    if (!e) return undefined;
    if (e.expires <= now()) {
      store.delete(key);
      return undefined;
    }
    return e.payload;
  };
  const prune = (): void => {
    const t = now();
    for (const [k, e] of store) if (e.expires <= t) store.delete(k);
    while (store.size > MAX_ENTRIES) store.delete(store.keys().next().value as string);
  };
  return (model: string): Adapter => {
    const key = (id: string): string => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        prune();
        store.set(key(id), { payload, expires: expiresIn ? now() + expiresIn * 1000 : Infinity });
      },
      async find(id) {
        return live(key(id));
      },
      async findByUid(uid) {
        for (const [k] of store) {
          const p = k.startsWith(`${model}:`) ? live(k) : undefined;
          if (p?.uid === uid) return p;
        }
        return undefined;
      },
      async findByUserCode(userCode) {
        for (const [k] of store) {
          const p = k.startsWith(`${model}:`) ? live(k) : undefined;
          if (p?.userCode === userCode) return p;
        }
        return undefined;
      },
      async consume(id) {
        const p = live(key(id));
        if (p) p.consumed = Math.floor(now() / 1000);
      },
      async destroy(id) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const [k, e] of store) if (e.payload.grantId === grantId) store.delete(k);
      },
    };
  };
}
