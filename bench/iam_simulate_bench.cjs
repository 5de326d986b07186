// Drives @cloud-copilot/iam-simulate over the requests in the JSON file given as argv[2]; prints one JSON line:
// {"median_us": …, "outcomes": {…}}. Installed on demand by bench/engine_compare.py into bench/.out/node.
const fs = require("fs");
const { runUnsafeSimulation } = require(require.resolve("@cloud-copilot/iam-simulate", { paths: [process.env.IAM_SIMULATE_DIR] }));

const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const identityPolicies = Object.entries(spec.policies).map(([name, policy]) => ({ name, policy }));
const simulations = spec.requests.map(([action, resource, extra]) => ({
  request: {
    principal: spec.principal,
    action,
    resource: { resource, accountId: spec.account },
    contextVariables: { ...spec.context, ...extra },
  },
  identityPolicies,
  permissionBoundaryPolicies: [{ name: "boundary", policy: spec.boundary }],
  serviceControlPolicies: [{ orgIdentifier: "r-root", policies: [{ name: "scp", policy: spec.scp }] }],
  resourceControlPolicies: [],
  resourcePolicy: undefined,
}));
const outcomes = {};
for (const s of simulations) {
  const r = runUnsafeSimulation(s, {});
  const key = typeof r === "string" ? r : JSON.stringify(r).slice(0, 40);
  outcomes[key] = (outcomes[key] || 0) + 1;
}
const samples = [];
for (let round = 0; round < spec.rounds; round++) {
  const start = process.cpuUsage();
  for (let i = 0; i < 10; i++) for (const s of simulations) runUnsafeSimulation(s, {});
  const used = process.cpuUsage(start);
  samples.push((used.user + used.system) / (10 * simulations.length));
}
samples.sort((a, b) => a - b);
console.log(JSON.stringify({ median_us: samples[Math.floor(samples.length / 2)], outcomes }));
