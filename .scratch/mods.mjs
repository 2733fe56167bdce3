// Which heavy packages does `assay start`'s module graph load? Hook resolution and log them.
import { register } from 'node:module';
