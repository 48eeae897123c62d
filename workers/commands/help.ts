import { registerCommand, listCommands, getCommand, CommandError } from './registry';

registerCommand({
  name: 'help',
  summary: 'list the commands, or show one command\'s usage',
  usage: 'help [command]',
  run(args) {
    if (args[0]) {
      const c = getCommand(args[0]);
      if (!c) throw new CommandError(`help: no command ${args[0]}`);
      return { text: `${c.name}: ${c.summary}\nusage: ${c.usage}\n`, json: { name: c.name, summary: c.summary, usage: c.usage } };
    }
    const cmds = listCommands();
    const w = Math.max(...cmds.map((c) => c.name.length));
    return {
      text: cmds.map((c) => `${c.name.padEnd(w)}  ${c.summary}`).join('\n') + '\n',
      json: cmds.map((c) => ({ name: c.name, summary: c.summary, usage: c.usage })),
    };
  },
});
