import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Clock } from './clock.js';

/** Provides the process's Clock (src/clock/clock.ts) to every module. */
@Global()
@Module({})
export class ClockModule {
  static forRoot(clock: Clock): DynamicModule {
    return { module: ClockModule, providers: [{ provide: Clock, useValue: clock }], exports: [Clock] };
  }
}
