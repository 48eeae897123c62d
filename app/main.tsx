import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startUrlSync } from './store/url';
import { warmEngine } from './engine';

startUrlSync();
void warmEngine().then(() => (document.documentElement.dataset.engine = 'ready'));
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
