// Module resolution hook for subprocess tests of src/ros/main.ts: `import('rclnodejs')` gets the
// in-memory stand-in (fake-rclnodejs-process.ts) instead of the real package, which needs ROS 2.
import { URL } from 'node:url';

const fake = new URL('./fake-rclnodejs-process.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  // Resolved by the next hooks (tsx's), so that they load the TypeScript file.
  if (specifier === 'rclnodejs') return next(fake, context);
  return next(specifier, context);
}
