// Every command module registers itself on import.
import './help';
import './list';
import './search';
import './ps';
import './overlay';
import './bt';
import './kmem';
import './whatis';
import './expr';
import './sym';
import './log';
import './sys';
import './slabcheck';
import './rd';
import './vtop';
import './struct';
import './dis';
