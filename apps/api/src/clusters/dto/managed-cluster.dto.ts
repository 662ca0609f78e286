import { NestedObject, NestedObjects } from '@cerulean/arm';
import { IsBoolean, IsDefined, IsIn, IsNotEmpty, IsObject, IsOptional, IsString, Matches } from 'class-validator';
import { AgentPoolPropertiesDto } from './agent-pool-properties.dto';

export class AgentPoolProfileDto extends AgentPoolPropertiesDto {
  @IsDefined() @IsString() name!: string;
}

export class ManagedClusterSkuDto {
  @IsOptional() @IsIn(['Base', 'Automatic', 'Basic']) name?: string;
  @IsOptional() @IsIn(['Free', 'Standard', 'Premium', 'Paid']) tier?: string;
}

export class ManagedClusterPropertiesDto {
  @IsOptional() @IsString() kubernetesVersion?: string;
  @IsOptional()
  @Matches(/^[a-zA-Z0-9]$|^[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]$/, {
    message: 'dnsPrefix must be 1-54 letters, digits and hyphens, starting and ending with a letter or digit',
  })
  dnsPrefix?: string;
  @IsOptional() @NestedObjects(() => AgentPoolProfileDto) agentPoolProfiles?: AgentPoolProfileDto[];
  @IsOptional() @IsString() nodeResourceGroup?: string;
  @IsOptional() @IsBoolean() enableRBAC?: boolean;
  @IsOptional() @IsObject() networkProfile?: Record<string, unknown>;
  @IsOptional() @IsObject() linuxProfile?: Record<string, unknown>;
  @IsOptional() @IsObject() windowsProfile?: Record<string, unknown>;
  @IsOptional() @IsObject() servicePrincipalProfile?: Record<string, unknown>;
  @IsOptional() @IsObject() addonProfiles?: Record<string, unknown>;
  @IsOptional() @IsString() provisioningState?: string;
}

/** Body of `PUT .../managedClusters/{name}`. Unknown spec fields are kept, not rejected. */
export class ManagedClusterBodyDto {
  @IsDefined() @IsString() @IsNotEmpty() location!: string;
  @IsOptional() @IsObject() tags?: Record<string, unknown>;
  @IsOptional() @NestedObject(() => ManagedClusterSkuDto) sku?: ManagedClusterSkuDto;
  @IsOptional() @IsObject() identity?: Record<string, unknown>;
  @IsOptional() @IsString() kind?: string;
  @IsOptional() @IsObject() extendedLocation?: Record<string, unknown>;
  @IsDefined() @NestedObject(() => ManagedClusterPropertiesDto) properties!: ManagedClusterPropertiesDto;
}

/** Body of `PATCH .../managedClusters/{name}` (UpdateTags). */
export class TagsObjectDto {
  @IsOptional() @IsObject() tags?: Record<string, unknown>;
}
