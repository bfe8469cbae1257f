// A small promise wrapper over IndexedDB: one database, a few object stores.
//   kv:     the session, device keys, cached label keys and items, the device counter
//   outbox: signed scans by device_seq, with their state and receipt

const NAME = "jejak";
let opened;

function db() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("kv");
      request.result.createObjectStore("outbox", { keyPath: "seq" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(store, mode, work) {
  const transaction = (await db()).transaction(store, mode);
  const request = work(transaction.objectStore(store));
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const get = (store, key) => run(store, "readonly", (s) => s.get(key));
export const put = (store, value, key) => run(store, "readwrite", (s) => s.put(value, key));
export const remove = (store, key) => run(store, "readwrite", (s) => s.delete(key));
export const all = (store) => run(store, "readonly", (s) => s.getAll()); // in key order

// Read-modify-write in one transaction (the device counter: no two scans share a number).
export function update(store, key, change) {
  return run(store, "readwrite", (s) => {
    const request = s.get(key);
    request.onsuccess = () => s.put(change(request.result), key);
    return request;
  });
}
