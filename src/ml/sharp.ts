/**
 * sharp (libvips, ~30 MB resident) loaded on first use, so a process that never decodes an image
 * (the web role at idle) never maps it.
 */
import type sharpType from 'sharp';

let loading: Promise<typeof sharpType> | null = null;

export function loadSharp(): Promise<typeof sharpType> {
  return (loading ??= import('sharp').then((m) => m.default));
}
