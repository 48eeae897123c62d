/**
 * Slabs: `kmem -s` (every SLUB cache with crash's counts), and `kmem -S <cache>` for the cache
 * in the URL (`#/<fp>/slabs/kmalloc-1k`). Next: the slab map (d3) of a cache's pages with each
 * object's state, and slabcheck findings.
 */
import { useApp, type Tab } from '../../store';
import { CommandGate, TextOutput, useCommand } from '../common';

interface CacheRow {
  name: string;
  objsize: number;
  allocated: number;
  total: number;
  slabs: number;
  ssize: number;
}

export function SlabsPanel({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const cache = tab.view.arg;
  const st = useCommand(tab, cache ? `kmem -S ${cache}` : 'kmem -s --json');
  return (
    <div className="panel slabs">
      <div className="toolbar">
        <button className={!cache ? 'on' : ''} onClick={() => navigate({ panel: 'slabs', params: {} })}>
          all caches
        </button>
        {cache && <code>kmem -S {cache}</code>}
      </div>
      <div className="scroll">
        <CommandGate tab={tab} state={st} what={cache ? `Slabs of ${cache} (kmem -S)` : 'Slab caches (kmem -s)'}>
          {(r) =>
            !cache && Array.isArray(r.json) ? (
              <table className="grid">
                <thead>
                  <tr>
                    <th>cache</th>
                    <th className="n">objsize</th>
                    <th className="n">allocated</th>
                    <th className="n">total</th>
                    <th className="n">slabs</th>
                    <th className="n">ssize</th>
                  </tr>
                </thead>
                <tbody>
                  {(r.json as CacheRow[]).map((c) => (
                    <tr key={c.name}>
                      <td>
                        <a
                          href="#"
                          onClick={(e) => {
                            e.preventDefault();
                            navigate({ panel: 'slabs', arg: c.name, params: {} });
                          }}
                        >
                          {c.name}
                        </a>
                      </td>
                      <td className="n">{c.objsize}</td>
                      <td className="n">{c.allocated}</td>
                      <td className="n">{c.total}</td>
                      <td className="n">{c.slabs}</td>
                      <td className="n">{c.ssize}k</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <TextOutput text={r.text} />
            )
          }
        </CommandGate>
      </div>
    </div>
  );
}
