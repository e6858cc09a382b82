// How much `import 'overseer'` costs a process: the time of the import and the RSS it adds.
// Printed as one JSON line; the bench runs it in fresh processes and takes the median.
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
await import('overseer');
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, rssBefore: rss0, rssAfter: process.memoryUsage().rss }));
