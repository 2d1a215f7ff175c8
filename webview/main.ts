/** Entry of the sunburst webview bundle (dist/webview/sunburst.js). */
import { App } from './app';
import { earlyBoot } from './boot';

const boot = earlyBoot();
new App(boot.api).start(boot);
