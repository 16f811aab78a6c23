// The settings an administrator configured for the plugin (the `settings`
// import of 0.2's activity and observer worlds): the calling institution's,
// else the platform's (`{}` when nothing is configured).
import * as settings from 'lectern:plugin/settings@0.2.0';

export const get = () => JSON.parse(settings.get());
