import { createInterface } from 'node:readline';
import { normalizeEmail } from '../../core/email.js';
import { hashPassword, PASSWORD_LIMITS } from '../../users/password.js';
import { parseCommandArgs, requireName, UsageError } from '../args.js';
import { configFromEnv, openCliStore } from '../context.js';

export const USERS_HELP = `Usage:
  smashsend users create --email EMAIL [--workspace NAME]… [--password-stdin]
      Creates a dashboard user in each --workspace (repeatable; default "default"; a missing
      workspace is created, and stderr says so). The password is asked for on the terminal,
      or read from the first line of stdin with --password-stdin (${PASSWORD_LIMITS.min}–${PASSWORD_LIMITS.max} characters).
      If the user exists, the workspaces are added to it (and the password replaced when one
      is given with --password-stdin). Creates the store if there is none.`;

/** `--workspace` may be repeated; parseCommandArgs keeps one value per option, so they are taken out first. */
function takeRepeated(argv: string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('-')) throw new UsageError(`--${name} needs a value`);
      values.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
    else rest.push(a);
  }
  return { values, rest };
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

async function promptPassword(): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('stdin is not a terminal: pass the password with --password-stdin');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing of what is typed after the prompt.
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  let muted = false;
  out._writeToOutput = (s: string) => {
    if (!muted) process.stderr.write(s);
  };
  try {
    const ask = (q: string) => {
      muted = false;
      const answer = new Promise<string>((resolve) => rl.question(q, resolve));
      muted = true; // the prompt is written; what is typed is not
      return answer.finally(() => process.stderr.write('\n'));
    };
    const first = await ask('Password: ');
    const second = await ask('Again: ');
    if (first !== second) throw new Error('the passwords differ');
    return first;
  } finally {
    rl.close();
  }
}

export async function users(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USERS_HELP);
    return 0;
  }
  if (sub !== 'create') throw new UsageError(`unknown users command "${sub}"`);
  const { values: workspaceArgs, rest: others } = takeRepeated(rest, 'workspace');
  const { values } = parseCommandArgs(others, { email: { type: 'string' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(USERS_HELP);
    return 0;
  }
  if (values.email === undefined) throw new UsageError('--email is required');
  const email = normalizeEmail(values.email);
  if (email === null) throw new UsageError(`--email ${JSON.stringify(values.email)} is not a valid email`);
  const workspaces = (workspaceArgs.length ? workspaceArgs : ['default']).map((w) => requireName('workspace', w));
  const password = values['password-stdin'] ? await readStdinLine() : await promptPassword();
  if ([...password].length < PASSWORD_LIMITS.min || [...password].length > PASSWORD_LIMITS.max) {
    throw new Error(`the password must have ${PASSWORD_LIMITS.min} to ${PASSWORD_LIMITS.max} characters`);
  }
  const passwordHash = await hashPassword(password);
  const store = await openCliStore(configFromEnv(), 'write');
  try {
    const ids: string[] = [];
    for (const name of workspaces) {
      const ws = await store.keys.ensureWorkspace(name, Date.now());
      if (ws.created) console.error(`Created workspace "${ws.name}" (${ws.id}).`);
      ids.push(ws.id);
    }
    const { user, created } = await store.users.createUser({ email, passwordHash, workspaceIds: ids, now: Date.now() });
    if (!created) {
      await store.users.addMemberships(user.id, ids);
      if (values['password-stdin']) await store.users.setPassword(user.id, passwordHash, Date.now());
    }
    const final = (await store.users.getUser(user.id))!;
    const names = final.workspaces.map((w) => `"${w.name}"`).join(', ');
    console.log(`${created ? 'Created' : 'Updated'} user ${final.id} ${final.email} in ${names}.`);
    return 0;
  } finally {
    await store.close();
  }
}
