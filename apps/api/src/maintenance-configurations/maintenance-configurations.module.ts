import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { MaintenanceConfigurationsController } from './maintenance-configurations.controller';
import { MaintenanceConfigurationsService } from './maintenance-configurations.service';

/** A cluster's planned maintenance configurations (stored and served; not yet acted on). */
@Module({
  imports: [ClustersModule],
  controllers: [MaintenanceConfigurationsController],
  providers: [MaintenanceConfigurationsService],
})
export class MaintenanceConfigurationsModule {}
