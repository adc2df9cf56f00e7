import pg from 'pg';
const c = new pg.Client('postgres://postgres@127.0.0.1:5432/viewer2_scratch'); await c.connect();
const run = 'tnh6wjhp';
const q = async (name, text, values) => { const s = performance.now(); const r = await c.query({ text, values, rowMode: 'array' }); console.log(name, (performance.now() - s).toFixed(1), r.rows.length); };
const S = (sel) => `select distinct on (worker) ${sel}
from (select coalesce(worker_id, '') collate "C" as worker, version, state_after from events where stream_id = $1 and machine = 'worker' and version <= $2) worker_events
window by_worker as (partition by worker order by version desc rows between unbounded preceding and unbounded following)
order by worker, version desc`;
for (let i = 0; i < 3; i++) {
await q('states', S('worker, min(version) over by_worker, state_after'), [run, 49996]);
await q('states-nojson', S('worker, min(version) over by_worker, 1'), [run, 49996]);
await q('states-count', `select count(*) from (${S('worker, min(version) over by_worker, state_after')}) x`, [run, 49996]);
await q('explain', `explain analyze ${S('worker, min(version) over by_worker, state_after')}`, [run, 49996]);
}
await c.end();
