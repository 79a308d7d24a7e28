/** `pgdrill schema`: the JSON Schema of scenarios, generated from what `run` accepts. */
import { lines, type CommandModule } from "../io.ts";

export const registerSchema: CommandModule = (program, { verbatim }) => {
  program
    .command("schema")
    .description("print the JSON Schema of scenarios (for editors and validators; generated from what `pgdrill run` accepts)")
    .addHelpText(
      "after",
      lines(
        "",
        "The installed package also ships it as node_modules/pgdrill/dist/schema/scenario.schema.json; " +
          "a YAML scenario names it in its first line:",
        "  # yaml-language-server: $schema=../node_modules/pgdrill/dist/schema/scenario.schema.json",
      ),
    )
    .action(async () => {
      const { scenarioJsonSchemaText } = await import("../../scenario/json-schema.ts");
      // Generated from pgdrill's own schema, no input in it: byte for byte the shipped file.
      verbatim.out(scenarioJsonSchemaText());
    });
};
