import Database from 'better-sqlite3'
import { canonicalJson } from '/work/main/dist/audit/canonical-json.js'
const db = new Database(process.argv[2], { readonly: true })
const rows = db.prepare("select kind, body from audit_chain where seq > (select max(seq)-6 from audit_chain) order by seq").all()
function time(name, fn) { for (let i=0;i<2000;i++) fn(); const n=20000; const t=process.hrtime.bigint(); for(let i=0;i<n;i++) fn(); console.log(name, (Number(process.hrtime.bigint()-t)/n/1000).toFixed(2),'µs') }
for (const r of rows) {
  const v = JSON.parse(r.body)
  const shuffled = JSON.parse(r.body, (k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x))
  if (canonicalJson(shuffled) !== r.body) throw new Error('differs')
  time(r.kind + ' ' + r.body.length + ' sorted', () => canonicalJson(v))
  time('  shuffled', () => canonicalJson(shuffled))
  time('  stringify', () => JSON.stringify(v))
}
