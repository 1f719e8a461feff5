// Starts fauxqs (SQS/SNS emulator) for stackagent's tests, bound to
// 127.0.0.1 only (its own CLI binds 0.0.0.0). Port: argv[2], else
// $FAUXQS_PORT, else 0 (the kernel picks one). Prints "FAUXQS_PORT=N" on
// stdout once listening; exits on SIGTERM/SIGINT or when stdin closes.
import { buildApp } from "fauxqs";

const dist = new URL("./", import.meta.resolve("fauxqs"));
const load = (p) => import(new URL(p, dist).href);
const { SqsStore } = await load("sqs/sqsStore.js");
const { SnsStore } = await load("sns/snsStore.js");
const { S3Store } = await load("s3/s3Store.js");

const port = Number(process.argv[2] ?? process.env.FAUXQS_PORT ?? 0);
const app = buildApp({
  logger: process.env.FAUXQS_LOGGER === "true",
  stores: { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: new S3Store() },
});
await app.listen({ host: "127.0.0.1", port });
console.log(`FAUXQS_PORT=${app.server.address().port}`);

const stop = () => app.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop).resume();
