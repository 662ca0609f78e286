import { ArrayNotEmpty, IsArray, IsDefined, IsString } from 'class-validator';

/** Body of `POST .../agentPools/{pool}/deleteMachines` (AKS AgentPoolDeleteMachinesParameter). */
export class DeleteMachinesDto {
  @IsDefined() @IsArray() @ArrayNotEmpty() @IsString({ each: true }) machineNames!: string[];
}
