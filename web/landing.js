// The landing page: where to go, in the chosen language.
import { applyI18n, langSwitch } from './i18n.js';

applyI18n();
langSwitch(document.getElementById('lang'));
