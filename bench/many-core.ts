// The many-core mode: the per-request bench alone (Tables 7 to 10), sized for a larger machine
// than the 2-core one the rest of the bench runs on. By default W = cores/2 and cores, 3 rounds
// of 5 s windows (on 16 cores: W = 8 and 16, about 7 minutes), and no round begins that would
// not end within 540 s (BENCH_DEADLINE_S). It needs no network and no npm:
// only node, wrk, dist/, build/ and the node_modules that scripts/pack-many-core.mjs gathers
// (bench/README-many-core.md). The tables go to stdout at the end, progress to stderr, and into
// $OUT (default ./many-core-results): tables.md, results.json (every sample, the medians, the
// targets) and samples.json, rewritten after each sample, so that a run cut short keeps what it
// measured.
//
//   npm run bench:many-core          (here: compiles first)
//   sh run.sh                        (in the packed folder)
import fs from 'node:fs';
import path from 'node:path';

process.env.BENCH_WORKERS ||= 'half,cores';
// The device machines this is meant for stop a command at 10 minutes: whole rounds, and tables, by 9.
process.env.BENCH_DEADLINE_S ||= '540';

const { settings } = await import('./settings.js');
const { machine, packageVersion, withoutStartCosts } = await import('./machine.js');
const { planFromSettings, roundOrder, runPlan } = await import('./per-request.js');
const { perRequestReport } = await import('./per-request-tables.js');
const { wrkVersion } = await import('./wrk.js');

const log = (msg: string): void => {
  process.stderr.write(`[many-core] ${msg}\n`);
};

const out = path.resolve(process.env.OUT || 'many-core-results');
fs.mkdirSync(out, { recursive: true });
const write = (file: string, text: string): void => fs.writeFileSync(path.join(out, file), text);

withoutStartCosts();
const t0 = Date.now();
const plan = planFromSettings();
const m = machine();
const versions = { wrk: await wrkVersion(settings.wrk), pm2: packageVersion('pm2') };
if (versions.wrk.startsWith('unavailable')) {
  log(`wrk ${versions.wrk}: set BENCH_WRK to a wrk binary`);
  process.exit(2);
}

// A start, a warm-up and a stop cost about 3 s besides each window.
const runs = roundOrder(plan, 0);
const perRound = runs.reduce((t, r) => t + plan.seconds + 3 + (plan.restarts(r.setup) ? plan.seconds : 0), 0);
log(
  `${m.cpu}, node ${m.node}, ${versions.wrk}, pm2 ${versions.pm2}${m.environment ? `, ${m.environment}` : ''}; W = ${plan.workers.join(', ')}; ` +
    `${plan.rounds} rounds of ${runs.length} runs, ${plan.seconds} s windows: about ${Math.round((perRound * plan.rounds) / 60)} min; results in ${out}`,
);

const { samples, rounds } = await runPlan(plan, log, (soFar) =>
  write('samples.json', JSON.stringify(soFar, null, 1)),
);
const report = perRequestReport({ ...plan, rounds }, samples, m, versions);
const { measureSpread, spreadTable } = await import('./spread.js');
const markdown = `${report.markdown}\n${spreadTable(await measureSpread(log))}`;
const { results } = report;
const seconds = (Date.now() - t0) / 1000;
write('results.json', JSON.stringify({ ...results, seconds }, null, 1));
write('tables.md', markdown);
process.stdout.write(`${markdown}\nmany-core bench: ${seconds.toFixed(0)} s; results in ${out}\n`);
