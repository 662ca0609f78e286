import { NestedObject } from '@cerulean/arm';
import { IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export class PowerStateDto {
  @IsOptional() @IsIn(['Running', 'Stopped']) code?: string;
}

/**
 * The agent pool properties the platform acts on, with AKS's bounds. Any other property of the spec is
 * kept as sent (it is not stripped) and returned on GET.
 */
export class AgentPoolPropertiesDto {
  @IsOptional() @IsInt() @Min(0) @Max(1000) count?: number;
  @IsOptional() @IsString() vmSize?: string;
  @IsOptional() @IsInt() @Min(0) @Max(2048) osDiskSizeGB?: number;
  @IsOptional() @IsInt() @Min(10) @Max(250) maxPods?: number;
  @IsOptional() @IsIn(['Linux', 'Windows']) osType?: string;
  @IsOptional() @IsString() osSKU?: string;
  @IsOptional() @IsInt() @Min(0) @Max(1000) maxCount?: number;
  @IsOptional() @IsInt() @Min(0) @Max(1000) minCount?: number;
  @IsOptional() @IsBoolean() enableAutoScaling?: boolean;
  @IsOptional() @IsIn(['VirtualMachineScaleSets', 'AvailabilitySet', 'VirtualMachines']) type?: string;
  @IsOptional() @IsIn(['System', 'User', 'Gateway']) mode?: string;
  @IsOptional() @IsString() orchestratorVersion?: string;
  @IsOptional() @IsString() nodeImageVersion?: string;
  @IsOptional() @IsObject() upgradeSettings?: Record<string, unknown>;
  @IsOptional() @NestedObject(() => PowerStateDto) powerState?: PowerStateDto;
  @IsOptional() @IsArray() @IsString({ each: true }) availabilityZones?: string[];
  @IsOptional() @IsObject() tags?: Record<string, unknown>;
  @IsOptional() @IsObject() nodeLabels?: Record<string, unknown>;
  @IsOptional()
  @IsArray()
  @Matches(/^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?(=[-A-Za-z0-9_.]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, {
    each: true,
    message: 'each value in nodeTaints must have the form key=value:NoSchedule|PreferNoSchedule|NoExecute',
  })
  nodeTaints?: string[];
  @IsOptional() @IsString() provisioningState?: string;
}

/** Body of `PUT .../agentPools/{name}`. */
export class AgentPoolBodyDto {
  @IsOptional() @NestedObject(() => AgentPoolPropertiesDto) properties?: AgentPoolPropertiesDto;
}
