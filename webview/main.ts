/** Entry of the sunburst webview bundle (dist/webview/sunburst.js). */
import { App, type VsCodeApi } from './app';

declare function acquireVsCodeApi(): VsCodeApi;

new App(acquireVsCodeApi()).start();
