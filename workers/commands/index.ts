// Every command module registers itself on import.
import './help';
import './ps';
import './kmem';
import './whatis';
import './bt';
import './expr';
import './sym';
import './rd';
import './slabcheck';
import './vtop';
import './struct';
