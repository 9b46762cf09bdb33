import { startTestApi, seedBoard } from "@agentboard/api/testing";
for (const provider of ["sqlite", "postgresql"] as const) {
  const api = await startTestApi(provider);
  const s = await seedBoard(api);
  const runner = await api.as("runner", s.workspace.id);
  await api.admin.run.create({ cardId: s.card.id, engine: "command", command: "x" });
  const c = (await runner.run.claim({ workspaceId: s.workspace.id }))!;
  await runner.run.start({ runId: c.run.id, leaseToken: c.leaseToken });
  const time = async (label: string, n: number, fn: () => Promise<unknown>) => { const t = performance.now(); for (let i = 0; i < n; i++) await fn(); console.log(provider, label, ((performance.now() - t) / n).toFixed(2), "ms"); };
  const ev = Array.from({ length: 3 }, (_, i) => ({ type: "agent.message", payload: { text: "hello " + i } }));
  await time("appendEvents(3)", 300, () => runner.run.appendEvents({ runId: c.run.id, leaseToken: c.leaseToken, events: ev }));
  await time("heartbeat", 300, () => runner.run.heartbeat({ runId: c.run.id, leaseToken: c.leaseToken }));
  await time("token.whoami", 300, () => runner.token.whoami());
  await time("authorize.run via byId", 300, () => api.core.deps.db.prisma.run.findUnique({ where: { id: c.run.id }, select: { workspaceId: true } }));
  await time("tx empty", 300, () => api.core.deps.db.prisma.$transaction(async () => 1));
  await api.close();
}
