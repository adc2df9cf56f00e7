import { openStore } from '../src/store/open-store.js';
import { INDEX_PAYLOADS, RunIndex } from '../src/web/run-index.js';
const store = await openStore('postgres://postgres@127.0.0.1:5432/viewer_dev');
for (let i = 0; i < 2; i++) {
let t = Date.now();
const ev = await store.readStream('mf5f32hh', { payloadTypes: INDEX_PAYLOADS });
console.log('lean read', Date.now() - t); t = Date.now();
const idx = new RunIndex('mf5f32hh', 'x'); idx.add(ev);
console.log('index', Date.now() - t); t = Date.now();
const p = await store.readStream('mf5f32hh', { fromVersion: 2, toVersion: 2 });
console.log('packets', Date.now() - t); t = Date.now();
idx.lanesAt(30000);
console.log('lanesAt', Date.now() - t); t = Date.now();
}
await store.close();
