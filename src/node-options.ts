// The Node/V8 options the service's process starts with: package.json "start", the Dockerfile's CMD
// and the benchmark's service children use these (test/unit/node-options.test.ts keeps them equal).
//
// --max-semi-space-size=2 (MB) for the main thread. It serves HTTP, checks JWTs and talks to the
// store: little V8 heap, but every request's bytes are short-lived ArrayBuffers, freed only by a GC.
// Left to V8, its young generation grew to 16–32 MB and was scavenged about once in 5 s, while the
// buffers kept pushing it into full GCs: 76–97 Mark-Compacts a minute under (a) at one connection,
// pauses of 4–37 ms, which were the p99 of a call. With 2 MB semi-spaces it scavenges a few times a
// second (about 1 ms each) and ran 8–10 Mark-Compacts a minute, with 44 instead of 104 MB of heap
// committed (bench/README.md, "Latency where no queue builds"). V8 flags apply to every thread:
// the evaluation workers set their own semi-space before they start (hooks/hook-runner.ts).
export const SERVICE_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=2'];
