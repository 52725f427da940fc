// The LDES client of the TREE/LDES community (npm ldes-client, rdf-connect/ldes-client) run on
// the event stream at the URL given, in ordered ascending mode; with "latest", only the latest
// version of each resource, materialized. Prints one JSON line per member it emits: its id and
// its quads in N-Quads. Exits 1 when the client reported an error.
import process from "node:process";
import { intoConfig, replicateLDES } from "ldes-client";
import { Writer } from "n3";

const [url, mode] = process.argv.slice(2);
const latest = mode === "latest";
const client = replicateLDES(intoConfig({ url, materialize: latest, lastVersionOnly: latest }), "ascending");
let failed = false;
client.on("error", (error) => {
  console.error(String(error));
  failed = true;
});
const reader = client.stream({ highWaterMark: 10 }).getReader();
for (;;) {
  const { value, done } = await reader.read();
  if (value) {
    const quads = new Writer({ format: "N-Quads" }).quadsToString(value.quads);
    process.stdout.write(JSON.stringify({ id: value.id.value, quads }) + "\n");
  }
  if (done) break;
}
process.exit(failed ? 1 : 0);
