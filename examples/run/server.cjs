// An app that has never heard of overseer: `overseer run server.cjs` runs it with hitless
// restarts, its settings in overseer.config.json beside it.
const http = require('node:http');

const server = http.createServer((_req, res) => res.end(`hello from pid ${process.pid}\n`));
server.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on :${server.address().port}`);
});

// Its own cleanup, as it always had: under overseer it runs after the drain.
process.on('SIGTERM', () => {
  console.log('closing the database pool');
  process.exit(0);
});
