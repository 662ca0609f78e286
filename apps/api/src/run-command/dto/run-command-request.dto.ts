import { IsDefined, IsOptional, IsString } from 'class-validator';

/** Body of `POST .../managedClusters/{name}/runCommand` (AKS RunCommandRequest). */
export class RunCommandRequestDto {
  @IsDefined() @IsString() command!: string;
  /** A base64-encoded zip of the files the command needs; empty or null means none. */
  @IsOptional() @IsString() context?: string | null;
  /** An AAD token for the cluster's server app. Cerulean has no AAD integration: accepted and not used. */
  @IsOptional() @IsString() clusterToken?: string;
}
