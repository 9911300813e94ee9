import { conjugateQuaternion, rotateVector } from '../../spatial/quaternion.js';
import type { Transform } from '../../spatial/transform.js';
import type { Vector3 } from '../../spatial/vector.js';
import type { PinholeCamera } from '../../synth/camera.js';
import type { Scene } from '../../synth/scene.js';

/**
 * Where the content of each image token of one view appears in the other view: the training-only
 * dense target that teaches the model to find correspondences. For the centre pixel of each merged
 * token (`merge` x `merge` patches of 14 pixels, raster order) a ray is cast into the scene (its
 * triangles and the ground plane z = 0; a ray that hits neither sees the sky, at infinity) and the
 * point it hits is projected into the other camera. Occlusion in the other view is not checked.
 */

/** Numbers per token in {@link tokenFlow}'s output. */
export const FLOW_FIELDS = 3;

const EPSILON = 1e-9;

/** Distance along the ray to the nearest triangle of the scene, or Infinity. */
function hitTriangles(scene: Scene, origin: Vector3, dir: Vector3): number {
  const p = scene.mesh.positions;
  let nearest = Infinity;
  for (let t = 0; t < scene.mesh.triangleCount; t++) {
    const o = t * 9;
    const [ax = 0, ay = 0, az = 0, bx = 0, by = 0, bz = 0, cx = 0, cy = 0, cz = 0] = p.subarray(o, o + 9);
    // Moller-Trumbore.
    const e1x = bx - ax;
    const e1y = by - ay;
    const e1z = bz - az;
    const e2x = cx - ax;
    const e2y = cy - ay;
    const e2z = cz - az;
    const px = dir.y * e2z - dir.z * e2y;
    const py = dir.z * e2x - dir.x * e2z;
    const pz = dir.x * e2y - dir.y * e2x;
    const det = e1x * px + e1y * py + e1z * pz;
    if (Math.abs(det) < EPSILON) continue;
    const inv = 1 / det;
    const sx = origin.x - ax;
    const sy = origin.y - ay;
    const sz = origin.z - az;
    const u = (sx * px + sy * py + sz * pz) * inv;
    if (u < 0 || u > 1) continue;
    const qx = sy * e1z - sz * e1y;
    const qy = sz * e1x - sx * e1z;
    const qz = sx * e1y - sy * e1x;
    const v = (dir.x * qx + dir.y * qy + dir.z * qz) * inv;
    if (v < 0 || u + v > 1) continue;
    const distance = (e2x * qx + e2y * qy + e2z * qz) * inv;
    if (distance > EPSILON && distance < nearest) nearest = distance;
  }
  return nearest;
}

/**
 * For each merged token of the view `from`, [dx, dy, valid]: the displacement of its centre's
 * content into the view `to`, in units of the image width and height (so 1 = across the image, 1/8 = one token at 224 x 224),
 * and 1 when that point projects in front of `to` and inside its image (else 0 and dx = dy = 0).
 */
export function tokenFlow(
  scene: Scene,
  camera: PinholeCamera,
  from: Transform,
  to: Transform,
  merge = 2,
): Float32Array {
  const side = 14 * merge;
  const cols = Math.floor(camera.width / side);
  const rows = Math.floor(camera.height / side);
  const out = new Float32Array(rows * cols * FLOW_FIELDS);
  const toInverse = conjugateQuaternion(to.rotation);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // Pixel centres sit at integer + 0.5; the token centre is a pixel corner.
      const u = (c + 0.5) * side;
      const v = (r + 0.5) * side;
      const ray = rotateVector(from.rotation, {
        x: (u - camera.cx) / camera.fx,
        y: (v - camera.cy) / camera.fy,
        z: 1,
      });
      const o = from.translation;
      let distance = hitTriangles(scene, o, ray);
      if (ray.z < -EPSILON) distance = Math.min(distance, -o.z / ray.z);
      // A finite hit projects as a point; the sky as a direction (rotation only).
      const inTo = Number.isFinite(distance)
        ? rotateVector(toInverse, {
            x: o.x + distance * ray.x - to.translation.x,
            y: o.y + distance * ray.y - to.translation.y,
            z: o.z + distance * ray.z - to.translation.z,
          })
        : rotateVector(toInverse, ray);
      const index = (r * cols + c) * FLOW_FIELDS;
      if (!(inTo.z > EPSILON)) continue;
      const u2 = (camera.fx * inTo.x) / inTo.z + camera.cx;
      const v2 = (camera.fy * inTo.y) / inTo.z + camera.cy;
      if (u2 < 0 || u2 > camera.width || v2 < 0 || v2 > camera.height) continue;
      out.set([(u2 - u) / camera.width, (v2 - v) / camera.height, 1], index);
    }
  }
  return out;
}
