// GET /ilp/visits/{org}/{visitId}: what the facility sent is shown to its own key only.
import { A, B, harness, visits } from './harness.js';

describe('GET /ilp/visits/{org}/{visitId}', () => {
  it("adds the record for the facility's own key, never for the admin or another facility", async () => {
    const h = harness();
    const [v] = visits(A, 1);
    await h.push(A, v).expect(202);
    const path = `/ilp/visits/${A}/${v!.visitId}`;
    const own = await h.get(path, A).expect(200);
    expect(own.body.record).toEqual(v);
    expect(own.body).toMatchObject({ state: 'queued', explanation: 'Menunggu sinkronisasi berikutnya.' });
    const admin = await h.get(path, 'admin').expect(200);
    expect(admin.body).not.toHaveProperty('record');
    expect(admin.text).not.toContain(v!.patient.nik);
    const other = await h.get(path, B).expect(404);
    expect(other.text).not.toContain(v!.patient.nik);
  });
});
