/** An ARM error as stored in jsonb columns (ArmErrorDetail without recursion, which TypeORM's update types reject). */
export interface StoredError {
  code: string;
  message: string;
  target?: string;
  details?: object[];
}
