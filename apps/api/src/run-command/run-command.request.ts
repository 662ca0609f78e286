import { ArmError } from '@cerulean/arm';
import { RunCommandRequestDto } from './dto/run-command-request.dto';

/** `sh -c <command>` gets the command as one argument, and Linux refuses an argument over 128 KiB. */
export const MAX_COMMAND_BYTES = 64 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// A zip starts with a local file header, or is just the end-of-central-directory record when empty.
const ZIP_SIGNATURES = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];

export interface RunCommandRequest {
  command: string;
  /** The decoded zip, or null when the request has no context. */
  context: Buffer | null;
}

/** The checks the DTO's types cannot express; a bad request is a 400 with the property as target. */
export function validateRunCommandRequest(dto: RunCommandRequestDto): RunCommandRequest {
  if (dto.command.trim() === '') throw ArmError.invalidParameter('command', 'The command must not be empty.');
  if (Buffer.byteLength(dto.command) > MAX_COMMAND_BYTES) {
    throw ArmError.invalidParameter('command', `The command is longer than ${MAX_COMMAND_BYTES} bytes; put a script in the context instead.`);
  }
  return { command: dto.command, context: decodeContext(dto.context) };
}

// `@IsOptional()` lets JSON null through (as it does undefined): null is no context, like '' or absent.
function decodeContext(context: string | null | undefined): Buffer | null {
  if (context === undefined || context === null || context === '') return null;
  if (!BASE64.test(context)) throw ArmError.invalidParameter('context', 'The context must be a base64-encoded zip file; it is not valid base64.');
  const zip = Buffer.from(context, 'base64');
  if (!ZIP_SIGNATURES.some((sig) => zip.subarray(0, 4).equals(sig))) {
    throw ArmError.invalidParameter('context', 'The context must be a base64-encoded zip file; the decoded content is not a zip archive.');
  }
  return zip;
}
