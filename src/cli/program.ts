// The `ilp-adapter` program. Each command lives in src/cli/commands/<name>.ts and exports a factory
// `(ctx: CliContext) => Command`; to add one (e.g. `simulator`, `sync`), append its factory to COMMANDS.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/paths.js';
import { EXIT, type CliContext } from './context.js';
import { mapCommand } from './commands/map.js';
import { validateCommand } from './commands/validate.js';
import { simulatorCommand } from './commands/simulator.js';
import { syncCommand } from './commands/sync.js';
import { keysCommand } from './commands/keys.js';
import { storeCommand } from './commands/store.js';
import { rejectionsCommand, visitsCommand } from './commands/visits.js';
import { facilitiesCommand } from './commands/facilities.js';
import { importCommand } from './commands/import.js';
import { purgeCommand } from './commands/at-rest.js';

export type CommandFactory = (ctx: CliContext) => Command;

export const COMMANDS: CommandFactory[] = [
  validateCommand, mapCommand, simulatorCommand, syncCommand, keysCommand, storeCommand, visitsCommand, rejectionsCommand, facilitiesCommand, importCommand, purgeCommand,
];

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(ctx: CliContext, commands: CommandFactory[] = COMMANDS): Command {
  const program = new Command('ilp-adapter')
    .description('ILP visit records → SATUSEHAT FHIR R4: map, validate, sync')
    .version(version())
    .configureOutput({ writeOut: (s) => void ctx.stdout.write(s), writeErr: (s) => void ctx.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError();
  for (const factory of commands) {
    const cmd = factory(ctx);
    cmd.copyInheritedSettings(program);
    program.addCommand(cmd);
  }
  return program;
}

/** Runs the CLI on `argv` (user arguments, without node and script) and returns the exit code. */
export async function runCli(argv: string[], ctx: CliContext, commands?: CommandFactory[]): Promise<number> {
  const program = buildProgram(ctx, commands);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.UNUSABLE;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors (unknown command/option, missing argument) exit 2.
      return err.exitCode === 0 ? EXIT.OK : EXIT.UNUSABLE;
    }
    throw err;
  }
  return ctx.exitCode;
}
