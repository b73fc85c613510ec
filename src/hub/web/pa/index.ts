// The PA console's and incidents page's browser bundle (dist/web/pa/console.js).
import { toast } from './api.js';
import { paConsole } from './console.js';
import { incidentsPage } from './incidents.js';

const page = document.body.dataset.page;
(page === 'pa' ? paConsole() : page === 'incidents' ? incidentsPage() : Promise.resolve()).catch((e: Error) => {
  console.error(e);
  toast(`This page could not start: ${e.message}`, true);
});
