// Regenerates the offline registry data of oc12-shell from two npm packages,
// pinned so that the output is reproducible:
//
//   communes.tsv  France's communes with their INSEE code, population and
//                 postcodes, their départements and régions, from Etalab's
//                 @etalab/decoupage-administratif (INSEE's Code officiel
//                 géographique and La Poste's postcodes; Licence Ouverte).
//   naf.tsv       The NAF rév. 2 sub-classes (APE codes, "62.01Z") and their
//                 labels, from @socialgouv/codes-naf (INSEE's nomenclature);
//                 written to src/language/data/, since the analyzer checks
//                 APE codes without asking any registry.
//
// Usage, from anywhere (needs node and npm, and the npm registry):
//
//   node src/interpreter/registry/data/generate.mjs
//
// Only current communes ("commune-actuelle") are kept, as geo.api.gouv.fr's
// /communes returns them; a commune's département is not stored since its
// INSEE code starts with it (three characters overseas, "97x"/"98x").

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const COMMUNES = "@etalab/decoupage-administratif@6.0.0";
const NAF = "@socialgouv/codes-naf@1.1.1";

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), "oc12-registry-"));

/** Downloads and unpacks an npm package; returns its folder. */
function unpack(spec) {
  const tgz = execFileSync("npm", ["pack", spec, "--silent", "--pack-destination", work], {
    encoding: "utf8",
  }).trim().split("\n").pop();
  const dir = join(work, tgz.replace(/\.tgz$/, ""));
  execFileSync("mkdir", ["-p", dir]);
  execFileSync("tar", ["xzf", join(work, tgz), "-C", dir]);
  return join(dir, "package");
}

const json = (dir, file) => JSON.parse(readFileSync(join(dir, file), "utf8"));
const clean = (s) => {
  if (/[\t\n\r]/.test(s)) throw new Error(`a tab or newline in ${JSON.stringify(s)}`);
  return s;
};
const departementOf = (insee) => (/^9[78]/.test(insee) ? insee.slice(0, 3) : insee.slice(0, 2));

try {
  const geo = unpack(COMMUNES);
  const regions = json(geo, "data/regions.json");
  const departements = json(geo, "data/departements.json");
  const communes = json(geo, "data/communes.json")
    .filter((c) => c.type === "commune-actuelle" && (c.codesPostaux || []).length > 0)
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));

  const lines = [
    `# France's communes and postcodes for oc12-shell's offline registry.`,
    `# Source: ${COMMUNES} (npm), data under Licence Ouverte 2.0 (Etalab).`,
    `# Regenerate with: node src/interpreter/registry/data/generate.mjs`,
    `# R <tab> région code <tab> name`,
    `# D <tab> département code <tab> région code <tab> name`,
    `# INSEE code <tab> commune <tab> population <tab> postcodes (comma separated)`,
  ];
  for (const r of regions) lines.push(["R", r.code, clean(r.nom)].join("\t"));
  for (const d of departements) lines.push(["D", d.code, d.region, clean(d.nom)].join("\t"));
  for (const c of communes) {
    if (departementOf(c.code) !== c.departement) {
      throw new Error(`${c.code} ${c.nom}: département ${c.departement} is not its code's`);
    }
    const postcodes = [...new Set(c.codesPostaux)].sort();
    lines.push([c.code, clean(c.nom), c.population ?? 0, postcodes.join(",")].join("\t"));
  }
  writeFileSync(join(here, "communes.tsv"), lines.join("\n") + "\n");

  const naf = unpack(NAF);
  const codes = json(naf, "index.json").filter((c) => /^\d\d\.\d\d[A-Z]$/.test(c.id));
  const nafLines = [
    `# NAF rév. 2 sub-classes (APE codes) and their labels, for oc12-shell.`,
    `# Source: ${NAF} (npm), INSEE's nomenclature.`,
    `# Regenerate with: node src/interpreter/registry/data/generate.mjs`,
    ...codes.map((c) => [c.id, clean(c.label)].join("\t")),
  ];
  writeFileSync(join(here, "../../../language/data/naf.tsv"), nafLines.join("\n") + "\n");
  console.log(`${communes.length} communes, ${codes.length} APE codes written to ${here}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
