// `node --import tsx --import ./test/ros/fake-rclnodejs-register.mjs src/ros/main.ts ...`
import { register } from 'node:module';

register('./fake-rclnodejs-hooks.mjs', import.meta.url);
